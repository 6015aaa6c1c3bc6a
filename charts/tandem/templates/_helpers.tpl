{{- define "tandem.labels" -}}
app.kubernetes.io/name: tandem
app.kubernetes.io/component: controller
{{- end -}}
