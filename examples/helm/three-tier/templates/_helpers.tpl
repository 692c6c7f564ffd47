{{/* Labels common to every object of the release. */}}
{{- define "three-tier.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: three-tier
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
