-- Requests the promotion of the release in flight (tandem.dev/promote: <release id>).
if obj.status == nil or obj.status.release == nil or obj.status.release.id == nil then
  error("no release is in flight; nothing to promote", 0)
end
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["tandem.dev/promote"] = obj.status.release.id
return obj
