{{/* Chart name, shortened to the 63 characters DNS labels allow. */}}
{{- define "mlmesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; the release name alone when it already contains the chart name. */}}
{{- define "mlmesh.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of a component's objects: <fullname>-<component>, kept under 63 characters. */}}
{{- define "mlmesh.componentName" -}}
{{- printf "%s-%s" (include "mlmesh.fullname" .root | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{- define "mlmesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mlmesh.labels" -}}
helm.sh/chart: {{ include "mlmesh.chart" . }}
app.kubernetes.io/name: {{ include "mlmesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlmesh
{{- end }}

{{/* Selector labels of one component; immutable once deployed, so no version in them. */}}
{{- define "mlmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlmesh.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "mlmesh.componentLabels" -}}
{{ include "mlmesh.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "mlmesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mlmesh.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mlmesh.image" -}}
{{- $repo := required "image.repository is required: the registry path of the mlmesh image" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding DATABASE_URL, REDIS_URL and the API keys file: the user's own, or the chart's. */}}
{{- define "mlmesh.secretName" -}}
{{- if .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else }}
{{- include "mlmesh.fullname" . }}
{{- end }}
{{- end }}

{{- define "mlmesh.configName" -}}
{{- include "mlmesh.componentName" (dict "root" . "component" "config") }}
{{- end }}

{{/* Where the API keys file is mounted; a directory, not a subPath, so the kubelet's updates reach the mesh. */}}
{{- define "mlmesh.apiKeysDir" -}}
/etc/mlmesh/api-keys
{{- end }}

{{/* Environment shared by the inference core and the workers; call with (dict "root" . "serviceName" name). */}}
{{- define "mlmesh.env" -}}
{{- $root := .root }}
envFrom:
  - configMapRef:
      name: {{ include "mlmesh.configName" $root }}
env:
  {{- /* Not optional: a pod whose Secret lacks DATABASE_URL stays in CreateContainerConfigError rather than opening a PGlite of its own. */}}
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "mlmesh.secretName" $root }}
        key: {{ $root.Values.secret.keys.databaseUrl }}
  - name: REDIS_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "mlmesh.secretName" $root }}
        key: {{ $root.Values.secret.keys.redisUrl }}
  - name: MLMESH_API_KEYS_FILE
    value: {{ printf "%s/%s" (include "mlmesh.apiKeysDir" $root) $root.Values.secret.keys.apiKeysFile | quote }}
  - name: OTEL_SERVICE_NAME
    value: {{ .serviceName | quote }}
  {{- with $root.Values.otel.endpoint }}
  - name: OTEL_EXPORTER_OTLP_ENDPOINT
    value: {{ . | quote }}
  {{- end }}
  {{- with $root.Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* The API keys file from the Secret, as a volume. */}}
{{- define "mlmesh.apiKeysVolume" -}}
- name: api-keys
  secret:
    secretName: {{ include "mlmesh.secretName" . }}
    items:
      - key: {{ .Values.secret.keys.apiKeysFile }}
        path: {{ .Values.secret.keys.apiKeysFile }}
{{- end }}

{{/* The OTEL_SERVICE_NAME of the inference core; the workers' adds "-worker". */}}
{{- define "mlmesh.otelServiceName" -}}
{{- default (include "mlmesh.fullname" .) .Values.otel.serviceName }}
{{- end }}

{{/* Non-root, read-only root filesystem, no privilege escalation, no capabilities. */}}
{{- define "mlmesh.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "mlmesh.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{- /* Egress of the inference core and the workers: DNS, PostgreSQL, Redis and the OTLP collector. A rule without `to` allows any address on its ports. */}}
{{- define "mlmesh.meshEgress" -}}
- ports:
    - { port: 53, protocol: UDP }
    - { port: 53, protocol: TCP }
{{- range $name := list "postgresql" "redis" "otlp" }}
{{- $e := index $.Values.networkPolicy.egress $name }}
- ports:
    {{- range (default (list $e.port) $e.ports) }}
    - { port: {{ . }}, protocol: TCP }
    {{- end }}
  {{- with $e.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
