// helm-render renders a Helm v3 chart the way `helm template` does, offline:
// Go's text/template with sprig and Helm's own functions. Helm itself cannot be
// installed in this build environment, but its engine is small enough to rebuild.
//
// Usage: helm-render [RELEASE] CHART_DIR [-f values.yaml]... [--set a.b=c]...
//
//	[--namespace NS] [--kube-version v1.29.0] [--api-versions group/version]...
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	yaml2 "gopkg.in/yaml.v2"
	yaml3 "gopkg.in/yaml.v3"
)

// Helm stops runaway recursive includes at this depth.
const recursionMaxNums = 1000

type options struct {
	release     string
	chartDir    string
	valueFiles  []string
	sets        []string
	namespace   string
	kubeVersion string
	apiVersions []string
}

func parseArgs(args []string) (options, error) {
	o := options{release: "release-name", namespace: "default", kubeVersion: "v1.29.0"}
	var positional []string
	next := func(i *int, flag string) (string, error) {
		if *i+1 >= len(args) {
			return "", fmt.Errorf("flag %s needs a value", flag)
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, inline, hasInline := strings.Cut(a, "=")
		value := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			return next(&i, name)
		}
		var err error
		var v string
		switch name {
		case "-f", "--values":
			v, err = value()
			o.valueFiles = append(o.valueFiles, v)
		case "--set":
			v, err = value()
			o.sets = append(o.sets, v)
		case "-n", "--namespace":
			o.namespace, err = value()
		case "--kube-version":
			o.kubeVersion, err = value()
		case "-a", "--api-versions":
			v, err = value()
			o.apiVersions = append(o.apiVersions, v)
		default:
			if strings.HasPrefix(a, "-") {
				return o, fmt.Errorf("unknown flag %s", a)
			}
			positional = append(positional, a)
		}
		if err != nil {
			return o, err
		}
	}
	switch len(positional) {
	case 1:
		o.chartDir = positional[0]
	case 2:
		o.release, o.chartDir = positional[0], positional[1]
	default:
		return o, errors.New("usage: helm-render [RELEASE] CHART_DIR [-f values.yaml]... [--set a.b=c]...")
	}
	if !regexp.MustCompile(`^v?\d+\.\d+(\.\d+)?$`).MatchString(o.kubeVersion) {
		return o, fmt.Errorf("--kube-version %q: must look like v1.29.0", o.kubeVersion)
	}
	return o, nil
}

// readYAML decodes the way Helm does (sigs.k8s.io/yaml: YAML -> JSON -> Go),
// so numbers become float64 and maps map[string]interface{}, exactly the shapes
// templates see under a real `helm template`.
func readYAML(data []byte) (map[string]interface{}, error) {
	var raw interface{}
	if err := yaml3.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var out interface{}
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, err
	}
	m, ok := out.(map[string]interface{})
	if !ok {
		return nil, errors.New("top level must be a mapping")
	}
	return m, nil
}

// coalesce merges src over dst like Helm: maps merge key by key, anything else
// replaces, and an explicit null deletes the key.
func coalesce(dst, src map[string]interface{}) map[string]interface{} {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]interface{})
		dm, dIsMap := dst[k].(map[string]interface{})
		if sIsMap && dIsMap {
			dst[k] = coalesce(dm, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

// parseSetValue types a --set value as Helm's strvals does.
func parseSetValue(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && (s == "0" || !strings.HasPrefix(s, "0")) {
		return n
	}
	return s
}

// applySet handles comma-separated a.b.c=value pairs; `\,` and `\.` escape.
func applySet(vals map[string]interface{}, expr string) error {
	for _, pair := range splitEscaped(expr, ',') {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return fmt.Errorf("--set %q: expected key=value", pair)
		}
		parts := splitEscaped(key, '.')
		node := vals
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]interface{})
			if !ok {
				child = map[string]interface{}{}
				node[p] = child
			}
			node = child
		}
		last := parts[len(parts)-1]
		v := parseSetValue(strings.ReplaceAll(value, `\,`, ","))
		if v == nil {
			delete(node, last)
		} else {
			node[last] = v
		}
	}
	return nil
}

func splitEscaped(s string, sep byte) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == sep {
			cur.WriteByte(sep)
			i++
			continue
		}
		if s[i] == sep {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	return append(out, cur.String())
}

// Files is the minimal .Files of Helm: the chart's non-template files.
type Files map[string][]byte

func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Get(name string) string      { return string(f[name]) }
func (f Files) Lines(name string) []string {
	if f[name] == nil {
		return []string{}
	}
	return strings.Split(strings.TrimRight(string(f[name]), "\n"), "\n")
}

// Glob returns the files whose path matches the pattern, as Files again.
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// VersionSet backs .Capabilities.APIVersions.
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// The API versions a stock cluster serves; CRDs (e.g. monitoring.coreos.com/v1) only via -a.
var defaultAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1",
	"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1",
	"apps/v1/Deployment", "v1/Service", "v1/ConfigMap", "v1/Secret", "v1/ServiceAccount",
	"autoscaling/v2/HorizontalPodAutoscaler", "policy/v1/PodDisruptionBudget",
}

func toYAML(v interface{}) string {
	data, err := marshalYAML(v)
	if err != nil {
		// Helm swallows the error here and renders an empty string.
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

// marshalYAML goes through JSON first, as sigs.k8s.io/yaml does, so struct tags
// and number formatting match Helm's output.
func marshalYAML(v interface{}) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic interface{}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return yaml2.Marshal(fromJSONNumbers(generic))
}

func fromJSONNumbers(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = fromJSONNumbers(x)
		}
		return t
	case []interface{}:
		for i, x := range t {
			t[i] = fromJSONNumbers(x)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

func fromYAML(s string) map[string]interface{} {
	m, err := readYAML([]byte(s))
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	return m
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func required(warn string, val interface{}) (interface{}, error) {
	if val == nil {
		return val, errors.New(warn)
	}
	if s, ok := val.(string); ok && s == "" {
		return val, errors.New(warn)
	}
	return val, nil
}

type chart struct {
	meta      map[string]interface{}
	values    map[string]interface{}
	templates map[string]string // name: "<chart>/templates/<file>"
	files     Files
}

func loadChart(dir string) (*chart, error) {
	metaRaw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	meta, err := readYAML(metaRaw)
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	name, _ := meta["name"].(string)
	if name == "" {
		return nil, errors.New("Chart.yaml: name is required")
	}
	if meta["apiVersion"] != "v2" {
		return nil, errors.New("Chart.yaml: apiVersion must be v2")
	}
	if _, ok := meta["version"].(string); !ok {
		return nil, errors.New("Chart.yaml: version is required (a SemVer string)")
	}
	c := &chart{meta: meta, values: map[string]interface{}{}, templates: map[string]string{}, files: Files{}}
	ignore := readHelmignore(filepath.Join(dir, ".helmignore"))
	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		if c.values, err = readYAML(raw); err != nil {
			return nil, fmt.Errorf("values.yaml: %w", err)
		}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if rel == "charts" || (rel != "templates" && ignore.matches(rel, true)) {
				return filepath.SkipDir
			}
			return nil
		}
		if ignore.matches(rel, false) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			c.templates[name+"/"+rel] = string(data)
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json" || rel == ".helmignore":
		default:
			c.files[rel] = data
		}
		return nil
	})
	return c, err
}

// helmignore is the subset of .helmignore Helm charts use in practice: globs
// matched against the path and the base name, `dir/` for directories, `#` comments.
type helmignore []string

func readHelmignore(file string) helmignore {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var out helmignore
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func (h helmignore) matches(rel string, isDir bool) bool {
	for _, p := range h {
		dirOnly := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		if dirOnly && !isDir {
			continue
		}
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, path.Base(rel)); ok {
			return true
		}
	}
	return false
}

// checkKubeVersion enforces Chart.yaml's kubeVersion constraint as Helm does.
func checkKubeVersion(meta map[string]interface{}, kubeVersion string) error {
	constraint, _ := meta["kubeVersion"].(string)
	if constraint == "" {
		return nil
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return fmt.Errorf("Chart.yaml: kubeVersion %q: %v", constraint, err)
	}
	v, err := semver.NewVersion(kubeVersion)
	if err != nil {
		return fmt.Errorf("--kube-version %q: %v", kubeVersion, err)
	}
	if !c.Check(v) {
		return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", constraint, kubeVersion)
	}
	return nil
}

// render executes every template that is not a partial (`_*`) or NOTES.txt.
func render(c *chart, o options) (map[string]string, error) {
	chartName := c.meta["name"].(string)
	versionParts := strings.SplitN(strings.TrimPrefix(o.kubeVersion, "v"), ".", 3)
	apiVersions := append(VersionSet{}, defaultAPIVersions...)
	apiVersions = append(apiVersions, o.apiVersions...)
	appVersion, _ := c.meta["appVersion"].(string)
	top := map[string]interface{}{
		"Values": c.values,
		"Release": map[string]interface{}{
			"Name": o.release, "Namespace": o.namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": map[string]interface{}{
			"Name": chartName, "Version": c.meta["version"], "AppVersion": appVersion,
			"Description": c.meta["description"], "Type": c.meta["type"],
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{
				"Version": "v" + strings.Join(versionParts, "."), "GitVersion": "v" + strings.Join(versionParts, "."),
				"Major": versionParts[0], "Minor": versionParts[1],
			},
			"APIVersions": apiVersions,
			"HelmVersion": map[string]interface{}{"Version": "v3.14.0"},
		},
		"Files": c.files,
	}

	t := template.New("gotpl")
	t.Option("missingkey=zero")
	includedNames := map[string]int{}
	funcs := sprig.TxtFuncMap()
	// Helm removes these so a chart cannot read the renderer's environment.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	funcs["required"] = required
	funcs["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if v, ok := includedNames[name]; ok {
			if v > recursionMaxNums {
				return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
			}
			includedNames[name]++
		} else {
			includedNames[name] = 1
		}
		err := t.ExecuteTemplate(&buf, name, data)
		includedNames[name]--
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		clone.Option("missingkey=zero")
		parsed, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := parsed.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	t.Funcs(funcs)

	names := make([]string, 0, len(c.templates))
	for n := range c.templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.New(n).Parse(c.templates[n]); err != nil {
			return nil, fmt.Errorf("parse error in %s: %w", n, err)
		}
	}

	out := map[string]string{}
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		scoped := map[string]interface{}{}
		for k, v := range top {
			scoped[k] = v
		}
		scoped["Template"] = map[string]interface{}{"Name": n, "BasePath": chartName + "/templates"}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, n, scoped); err != nil {
			return nil, helmError(err)
		}
		out[n] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

// helmError reshapes text/template errors from `fail` and `required` the way
// Helm reports them: "execution error at (file:line:col): message".
func helmError(err error) error {
	re := regexp.MustCompile(`template: (\S+?): executing .* error calling (?:fail|required): (.*)$`)
	if m := re.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("execution error at (%s): %s", m[1], m[2])
	}
	return err
}

// Helm's install order: what others depend on comes first.
var installOrder = []string{
	"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
	"ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
	"PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

type manifest struct {
	source string
	body   string
	order  int
}

var kindRe = regexp.MustCompile(`(?m)^kind:\s*["']?([A-Za-z]+)`)
var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// splitManifests fails like Helm on a document that is not YAML, since that is
// how template indentation mistakes surface.
func splitManifests(rendered map[string]string) ([]manifest, error) {
	var out []manifest
	for source, text := range rendered {
		for _, doc := range docSep.Split(text, -1) {
			if strings.TrimSpace(doc) == "" || strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var probe map[string]interface{}
			if err := yaml2.Unmarshal([]byte(doc), &probe); err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %v", source, err)
			}
			order := len(installOrder)
			if m := kindRe.FindStringSubmatch(doc); m != nil {
				for i, k := range installOrder {
					if k == m[1] {
						order = i
						break
					}
				}
			}
			out = append(out, manifest{source: source, body: strings.Trim(doc, "\n"), order: order})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].order != out[j].order {
			return out[i].order < out[j].order
		}
		return out[i].source < out[j].source
	})
	return out, nil
}

func stripComments(doc string) string {
	var keep []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func run(args []string) error {
	o, err := parseArgs(args)
	if err != nil {
		return err
	}
	c, err := loadChart(o.chartDir)
	if err != nil {
		return err
	}
	if err := checkKubeVersion(c.meta, o.kubeVersion); err != nil {
		return err
	}
	for _, f := range o.valueFiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("values file: %w", err)
		}
		v, err := readYAML(raw)
		if err != nil {
			return fmt.Errorf("values file %s: %w", f, err)
		}
		c.values = coalesce(c.values, v)
	}
	for _, s := range o.sets {
		if err := applySet(c.values, s); err != nil {
			return err
		}
	}
	rendered, err := render(c, o)
	if err != nil {
		return err
	}
	manifests, err := splitManifests(rendered)
	if err != nil {
		return err
	}
	var out strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.source, m.body)
	}
	_, err = os.Stdout.WriteString(out.String())
	return err
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
