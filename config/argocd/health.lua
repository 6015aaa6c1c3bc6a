-- Argo CD health of a Tandem RolloutGroup (tandem.dev/v1alpha1).
-- Argo CD runs this with gopher-lua (Lua 5.1); `obj` is the live object.
local hs = {}

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Tandem controller to report a status"
  return hs
end

-- An invalid spec is Degraded even before the generation is observed: a group the schema rejects
-- gets SpecValid=False without an observedGeneration.
local specValid = condition("SpecValid")
if specValid ~= nil and specValid.status == "False" and
    (specValid.observedGeneration == nil or specValid.observedGeneration == obj.metadata.generation) then
  hs.status = "Degraded"
  hs.message = specValid.message
  return hs
end

if obj.status.observedGeneration == nil or obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Tandem controller to observe the group's spec"
  return hs
end

local phases = {
  Healthy = "Healthy",
  Progressing = "Progressing",
  Promoting = "Progressing",
  Paused = "Suspended",
  Degraded = "Degraded",
}
hs.status = phases[obj.status.phase] or "Progressing"
hs.message = obj.status.message or ""
return hs
