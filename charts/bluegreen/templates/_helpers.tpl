{{- define "bluegreen.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "bluegreen.labels" -}}
app.kubernetes.io/name: bluegreen
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "bluegreen.selector" -}}
app.kubernetes.io/name: bluegreen
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The rules of the generated manager-role (config/rbac/role.yaml, copied by make manifests). */}}
{{- define "bluegreen.rules" -}}
{{- $role := .Files.Get "files/manager-role.yaml" | fromYaml -}}
{{- toYaml $role.rules -}}
{{- end -}}
