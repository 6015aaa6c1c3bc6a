-- Requests a retry of the aborted release (tandem.dev/retry: <release id>).
if obj.status == nil or obj.status.release == nil or obj.status.release.abortedAt == nil then
  error("no aborted release; nothing to retry", 0)
end
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["tandem.dev/retry"] = obj.status.release.id
return obj
