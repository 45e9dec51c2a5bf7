-- Argo CD health check of rollouts.bluegreen.dev/AnalysisRun.
--
-- It maps status.phase, which the bluegreen controller writes:
--   Pending, Running   Progressing
--   Successful         Healthy (also a run its Rollout terminated: it stopped measuring)
--   Failed, Error      Degraded, with the run's message (metric, value, condition, query)
--   Inconclusive       Suspended: the Rollout waits for a promote or an abort
-- It uses only the base and table libraries, which Argo CD opens for every health check.
local hs = {}

local function text(value)
  if value == nil then
    return ""
  end
  return value
end

local function messageOr(default)
  if obj.status ~= nil and text(obj.status.message) ~= "" then
    return obj.status.message
  end
  return default
end

-- rollout names the Rollout the run belongs to, and commands for it.
local rollout = ""
if obj.metadata.labels ~= nil then
  rollout = text(obj.metadata.labels["rollouts.bluegreen.dev/rollout"])
end
local function command(verb)
  local line = "kubectl bluegreen " .. verb .. " " .. rollout
  if obj.metadata.namespace ~= nil then
    line = line .. " -n " .. obj.metadata.namespace
  end
  return "`" .. line .. "`"
end

local terminated = obj.spec ~= nil and obj.spec.terminate == true
local phase = ""
if obj.status ~= nil then
  phase = text(obj.status.phase)
end

if phase == "" or phase == "Pending" or phase == "Running" then
  hs.status = "Progressing"
  if terminated then
    hs.message = "Terminated: waiting for the controller to stop measuring"
  elseif phase == "" then
    hs.message = "Waiting for the bluegreen controller to start the analysis run"
  elseif phase == "Pending" then
    hs.message = "Analysis run is pending: no measurement yet"
  else
    hs.message = messageOr("Analysis run is running")
  end
  return hs
end

if phase == "Successful" then
  hs.status = "Healthy"
  hs.message = messageOr("Analysis run completed successfully")
  return hs
end

if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = messageOr("Analysis run failed")
  return hs
end

if phase == "Error" then
  hs.status = "Degraded"
  hs.message = messageOr("Analysis run had an error")
  return hs
end

if phase == "Inconclusive" then
  hs.status = "Suspended"
  hs.message = messageOr("Analysis run was inconclusive")
  if rollout ~= "" then
    hs.message = hs.message .. ". Rollout " .. rollout .. " stays paused on an inconclusive run until it is promoted (" ..
      command("promote") .. ") or aborted (" .. command("abort") .. ")"
  end
  return hs
end

hs.status = "Unknown"
hs.message = "Unknown phase " .. phase .. ": " .. messageOr("")
return hs
