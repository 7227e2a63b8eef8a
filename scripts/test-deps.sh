#!/usr/bin/env bash
# The Debian packages `make test` needs besides Node 20 (make test runs this first):
#   postgresql, redis-server  the servers the tests start privately (initdb in a temporary directory,
#                             redis-server on a port of its own); the machine's own services are not used
#   golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v2-dev, golang-gopkg-yaml.v3-dev
#                             the Helm renderer (make check-helm)
#   golang-grpc-gateway       protoc-gen-swagger, for the OpenAPI document (make openapi)
#   prometheus                promtool, for the alert rules' checks and unit tests (make check-rules)
#   chromium                  the headless browser the web client's test drives (playwright-core, /usr/bin/chromium)
#   python3-aiosmtpd          the SMTP server the notification delivery test sends email to (/usr/bin/aiosmtpd)
#   haproxy                   the proxy in front of the fleet tests' mesh replicas (make fleet, test/fleet/)
# As root it installs whichever are missing with apt-get; as anyone else it prints the command and fails.
set -euo pipefail

need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] || need+=(golang-github-masterminds-sprig-dev)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v2 ] || need+=(golang-gopkg-yaml.v2-dev)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v3 ] || need+=(golang-gopkg-yaml.v3-dev)
command -v protoc-gen-swagger >/dev/null || need+=(golang-grpc-gateway)
command -v promtool >/dev/null || need+=(prometheus)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/aiosmtpd ] || need+=(python3-aiosmtpd)
command -v haproxy >/dev/null || need+=(haproxy)

((${#need[@]})) || exit 0

if [ "$(id -u)" -ne 0 ]; then
  {
    echo "make test needs Debian packages that are not installed: ${need[*]}"
    echo "Install them, then run make test again:"
    echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}"
  } >&2
  exit 1
fi

echo "installing: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
