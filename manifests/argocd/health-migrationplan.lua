-- Argo CD health check for trafficshift.io/v1alpha1 MigrationPlan.
-- Argo CD runs this with the live object as `obj` and reads hs.status and hs.message.
-- It reads what the controller writes: status.observedGeneration, status.phase, the kstatus
-- conditions (Ready, Stalled) and status.rollback.reason.
hs = {}

local function condition(conditions, ctype)
  if conditions == nil then return nil end
  for _, c in ipairs(conditions) do
    if c.type == ctype then return c end
  end
  return nil
end

local function say(status, text)
  hs.status = status
  hs.message = text
  return hs
end

local st = obj.status
if st == nil or st.phase == nil then
  return say("Progressing", "Waiting for the controller to observe the plan")
end
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (st.observedGeneration == nil or st.observedGeneration < generation) then
  return say("Progressing", "Waiting for the controller to observe generation " .. tostring(generation))
end

local phase = st.phase
local ready = condition(st.conditions, "Ready")
local stalled = condition(st.conditions, "Stalled")
local reason = st.rollback and st.rollback.reason
local detail = (ready and ready.message ~= "" and ready.message) or phase
local text = phase .. ": " .. detail

if phase == "Succeeded" then
  return say("Healthy", text)
end
-- A rollback in progress is Degraded, not Progressing: traffic is being taken off the canary
-- because something went wrong, and that is what an SRE watching the app must see.
if phase == "RollingBack" then
  return say("Degraded", "RollingBack: " .. (reason or detail))
end
-- Stalled=True means the plan cannot go on without a person (RolledBack, an invalid spec, a
-- missing target, a failing critical check with automatic rollback off): Degraded in any phase.
if stalled ~= nil and stalled.status == "True" then
  return say("Degraded", phase .. ": " .. ((stalled.message ~= "" and stalled.message) or reason or detail))
end
if phase == "RolledBack" or phase == "Failed" then
  return say("Degraded", phase .. ": " .. (reason or detail))
end
-- Paused and WaitingForPromotion wait for a person on purpose (spec.paused, a promote gate).
if phase == "Paused" or phase == "WaitingForPromotion" then
  return say("Suspended", text)
end
-- Holding without Stalled (a warning check failing, no data, outside a change window) clears by
-- itself when its cause goes, so it stays Progressing rather than flapping the app to Degraded.
if phase == "Pending" or phase == "Progressing" or phase == "Holding" then
  return say("Progressing", text)
end
say("Progressing", "Unknown phase " .. tostring(phase))
return hs
