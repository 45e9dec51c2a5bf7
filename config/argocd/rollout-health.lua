-- Argo CD health check of rollouts.bluegreen.dev/Rollout.
--
-- It reports what the bluegreen controller decided (status.phase, the conditions and
-- status.abort) rather than working health out again from replica counts:
--   Progressing  the controller has not observed the spec yet, or a revision is on its way
--   Suspended    paused: waiting for a promotion, after an inconclusive analysis, or spec.paused
--   Degraded     aborted, invalid spec, or past the progress deadline
--   Healthy      the current revision is the stable one, active and fully available
-- It uses only the base and table libraries, which Argo CD opens for every health check.
local hs = {}

local function text(value)
  if value == nil then
    return ""
  end
  return value
end

local function number(value)
  if value == nil then
    return nil
  end
  return tonumber(value)
end

local function condition(conditionType)
  if obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- command is a kubectl bluegreen command line for this Rollout, in backquotes.
local function command(verb)
  local line = "kubectl bluegreen " .. verb .. " " .. obj.metadata.name
  if obj.metadata.namespace ~= nil then
    line = line .. " -n " .. obj.metadata.namespace
  end
  return "`" .. line .. "`"
end

if obj.status == nil or text(obj.status.phase) == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the bluegreen controller to report on the Rollout; if this lasts, check that the operator runs and watches this namespace"
  return hs
end

local generation = number(obj.metadata.generation)
local observed = number(obj.status.observedGeneration)
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe the spec: generation " .. generation .. ", observed " .. (observed or 0)
  return hs
end

local phase = obj.status.phase
local message = text(obj.status.message)
if message == "" then
  message = "The Rollout is " .. phase
end

if phase == "Degraded" then
  hs.status = "Degraded"
  local invalid = condition("InvalidSpec")
  if invalid ~= nil and invalid.status == "True" then
    hs.message = "Invalid spec: " .. text(invalid.message)
    return hs
  end
  local abort = obj.status.abort
  if abort ~= nil and abort.revision == obj.status.currentPodHash then
    local m = "Revision " .. text(abort.revision) .. " was aborted by " .. text(abort.by)
    if text(abort.reason) ~= "" then
      m = m .. " (" .. abort.reason .. ")"
    end
    if text(abort.message) ~= "" then
      m = m .. ": " .. abort.message
    elseif abort.analysis ~= nil then
      local a = abort.analysis
      m = m .. ": AnalysisRun " .. text(a.runName) .. " is " .. text(a.phase)
      if text(a.metricName) ~= "" then
        m = m .. ", metric " .. a.metricName .. " measured " .. text(a.value)
      end
      if text(a.condition) ~= "" then
        m = m .. " (condition " .. a.condition .. ")"
      end
    end
    local stable = text(obj.status.stableRS)
    if stable ~= "" and stable ~= abort.revision then
      m = m .. ". Production traffic is back on the stable revision " .. stable
    end
    hs.message = m .. ". Retry with " .. command("retry") .. ", or change spec.template"
    return hs
  end
  local progressing = condition("Progressing")
  if progressing ~= nil and progressing.reason == "ProgressDeadlineExceeded" then
    hs.message = "Progress deadline exceeded: " .. text(progressing.message) ..
      ". Look at the new revision's pods (" .. command("get rollout") .. "), then fix spec.template or abort with " .. command("abort")
    return hs
  end
  hs.message = message
  return hs
end

if phase == "Paused" then
  hs.status = "Suspended"
  local paused = condition("Paused")
  local reason = ""
  if paused ~= nil and paused.status == "True" then
    reason = text(paused.reason)
  end
  if reason == "PausedBySpec" then
    hs.message = message .. ". Resume by setting spec.paused to false, or with " .. command("resume")
  elseif reason == "InconclusiveAnalysis" then
    hs.message = message .. ". Promote with " .. command("promote") .. ", or abort with " .. command("abort")
  else
    hs.message = message .. ". Promote with " .. command("promote") .. " (or abort with " .. command("abort") .. ")"
  end
  return hs
end

if phase == "Healthy" then
  hs.status = "Healthy"
  hs.message = message
  return hs
end

if phase == "Progressing" then
  hs.status = "Progressing"
  hs.message = message
  return hs
end

hs.status = "Unknown"
hs.message = "Unknown phase " .. phase .. ": " .. message
return hs
