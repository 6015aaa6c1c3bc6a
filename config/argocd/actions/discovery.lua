-- Which RolloutGroup actions Argo CD offers: each writes one of Tandem's request annotations.
local actions = {}
actions["promote"] = {["disabled"] = true, ["iconClass"] = "fa fa-fw fa-forward"}
actions["abort"] = {["disabled"] = true, ["iconClass"] = "fa fa-fw fa-times-circle"}
actions["retry"] = {["disabled"] = true, ["iconClass"] = "fa fa-fw fa-redo-alt"}

local release = nil
if obj.status ~= nil then
  release = obj.status.release
end
if release == nil or release.id == nil then
  return actions
end

local annotations = {}
if obj.metadata.annotations ~= nil then
  annotations = obj.metadata.annotations
end

-- Promote: a release (or its current stage) not yet promoted, not aborted, and not already requested.
actions["promote"]["disabled"] = release.promotedAt ~= nil or release.abortedAt ~= nil or
  annotations["tandem.dev/promote"] == release.id
-- Abort: any release not aborted yet (members already live are rolled back).
actions["abort"]["disabled"] = release.abortedAt ~= nil or annotations["tandem.dev/abort"] ~= nil
-- Retry: what Tandem accepts, an aborted release whose cutover had not started and none of whose
-- failed members is blue-green (Argo would switch those live at once, so Tandem refuses them).
local retryable = release.abortedAt ~= nil and release.promotedAt == nil
local targeted = {}
for _, t in ipairs(release.targets or {}) do
  targeted[t.rollout] = true
end
for _, m in ipairs(obj.status.members or {}) do
  if targeted[m.rollout] and m.state == "Failed" and m.strategy == "BlueGreen" then
    retryable = false
  end
end
actions["retry"]["disabled"] = not retryable or annotations["tandem.dev/retry"] == release.id
return actions
