{{/* The chart's name, or nameOverride. */}}
{{- define "tandem.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object's name (Helm's convention): fullnameOverride, else the release name if it
already contains the chart's name, else <release>-<chart>. Release "tandem" gives the names of config/default.
*/}}
{{- define "tandem.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The controller's Deployment, Service and namespaced RBAC objects. */}}
{{- define "tandem.controllerName" -}}
{{- printf "%s-controller" (include "tandem.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The controller's ClusterRole, ClusterRoleBinding (and, namespaced, its Role in the watched namespace):
suffixed with the release namespace, so the same release name installed in two namespaces never
claims the other's cluster-scoped objects.
*/}}
{{- define "tandem.rbacName" -}}
{{- printf "%s-%s" (include "tandem.controllerName" .) .Release.Namespace -}}
{{- end -}}

{{- define "tandem.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tandem.controllerName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Namespaced mode watches this namespace: watchNamespace, else the release's. */}}
{{- define "tandem.watchNamespace" -}}
{{- default .Release.Namespace .Values.watchNamespace -}}
{{- end -}}

{{- define "tandem.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Selects the controller's pods; stable across upgrades (a Deployment's selector is immutable). */}}
{{- define "tandem.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tandem.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "tandem.labels" -}}
{{ include "tandem.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The notifications ConfigMap: the one named, or <fullname>-notifications-cm. */}}
{{- define "tandem.notificationsConfigMap" -}}
{{- .Values.notifications.existingConfigMap | default (printf "%s-notifications-cm" (include "tandem.fullname" .)) }}
{{- end }}
