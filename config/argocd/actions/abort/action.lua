-- Requests an abort of the release in flight (tandem.dev/abort: <reason>).
if obj.status == nil or obj.status.release == nil then
  error("no release is in flight; nothing to abort", 0)
end
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["tandem.dev/abort"] = "requested from Argo CD"
return obj
