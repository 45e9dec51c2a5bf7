{{/*
The application's name: the chart name, or nameOverride. Used for the app and
app.kubernetes.io/name labels and in the analysis query.
*/}}
{{- define "admin-api-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The name of the Rollout and the active Service: the release name when it already holds
the chart name (a release "admin-api-gateway" gives "admin-api-gateway"), else "<release>-<chart>".
Truncated to 55 characters so that "<fullname>-standby" still fits in 63.
*/}}
{{- define "admin-api-gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The preview Service, which selects the newest revision before and after promotion. */}}
{{- define "admin-api-gateway.previewService" -}}
{{- printf "%s-standby" (include "admin-api-gateway.fullname" .) -}}
{{- end -}}

{{/* The AnalysisTemplate measuring the error ratio of one revision. */}}
{{- define "admin-api-gateway.analysisTemplate" -}}
{{- printf "%s-error-rate" (include "admin-api-gateway.fullname" .) -}}
{{- end -}}

{{/*
Labels that select the pods. They never change for a release: the Rollout's selector is
immutable, and the Services select on them (the operator adds rollouts-pod-template-hash).
*/}}
{{- define "admin-api-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "admin-api-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Labels of every object. Nothing here depends on image.tag, so that a new tag changes the
pod template's image and nothing else.
*/}}
{{- define "admin-api-gateway.labels" -}}
{{ include "admin-api-gateway.selectorLabels" . }}
app.kubernetes.io/part-of: gateway
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/*
The Rollout's Slack subscriptions, one annotation per trigger:
notifications.bluegreen.dev/subscribe.<trigger>.slack: "<channel>;<channel>".
*/}}
{{- define "admin-api-gateway.subscriptions" -}}
{{- $n := .Values.notifications -}}
{{- $subs := dict -}}
{{- if $n.slackChannels -}}
{{- range $trigger := $n.triggers -}}
{{- $_ := set $subs $trigger $n.slackChannels -}}
{{- end -}}
{{- end -}}
{{- range $trigger, $channels := $n.extraSlackChannels -}}
{{- $_ := set $subs $trigger (concat (get $subs $trigger | default list) $channels | uniq) -}}
{{- end -}}
{{- range $trigger := keys $subs | sortAlpha }}
notifications.bluegreen.dev/subscribe.{{ $trigger }}.slack: {{ get $subs $trigger | join ";" | quote }}
{{- end -}}
{{- end -}}
