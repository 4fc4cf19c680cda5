-- parking.lua — pay-per-minute parking (the whitepaper's parking scenario):
-- the gate (the deployer) sets a price per minute; a car deposits SSP when
-- it enters; when it leaves it pays for the minutes it stayed (started
-- minutes count) and gets the rest of its deposit back at once. The gate
-- can open for a car as soon as the Entered event is in a block: the
-- deposit bounds the risk.
--
-- Deploy:  ssp contract deploy --from GATE parking.lua --args '[100000, 60000]'
--          init(price_per_minute, minute_ms): price in SSP base units,
--          minute_ms the length of a billed minute (60000; shorter on test nets).
-- Use:     ssp contract call --from CAR ADDR enter --value 2     (the deposit)
--          ssp contract call --from CAR ADDR exit
--          ssp contract call --from GATE ADDR setPrice --args '[200000]'
--          ssp contract query ADDR quote --args '["CAR"]'
-- Time is the block's timestamp (ssp.time(), ms), the same on every node.
-- Events: Entered {car, deposit, since}, Exited {car, minutes, paid, refund},
--         Price {price}.

local function car_key(car) return "car:" .. car end

function init(price, minute_ms)
  minute_ms = minute_ms or 60000
  assert(math.type(price) == "integer" and price >= 0, "parking: price is a non-negative integer")
  assert(math.type(minute_ms) == "integer" and minute_ms > 0, "parking: minute_ms is a positive integer")
  storage.set("gate", ssp.sender())
  storage.set("price", price)
  storage.set("minute", minute_ms)
end

-- started minutes between since and now, at least one
local function minutes_between(since, now)
  local minute = storage.get("minute")
  local ms = now - since
  if ms <= 0 then return 1 end
  return (ms + minute - 1) // minute
end

-- what a car owes now and what it would get back
local function bill(car)
  local s = storage.get(car_key(car))
  assert(s ~= nil, "parking: this car is not parked")
  local minutes = minutes_between(s.since, ssp.time())
  local due = minutes * storage.get("price")
  if due > s.deposit then due = s.deposit end
  return s, minutes, due
end

function setPrice(price)
  assert(ssp.sender() == storage.get("gate"), "parking: only the gate sets the price")
  assert(math.type(price) == "integer" and price >= 0, "parking: price is a non-negative integer")
  storage.set("price", price)
  ssp.emit("Price", {price = price})
end

-- payable: the deposit; must cover at least one minute
function enter()
  local car = ssp.sender()
  assert(storage.get(car_key(car)) == nil, "parking: this car is already parked")
  local deposit = ssp.value()
  assert(deposit >= storage.get("price"), "parking: the deposit must cover at least one minute")
  local since = ssp.time()
  storage.set(car_key(car), {deposit = deposit, since = since})
  ssp.emit("Entered", {car = car, deposit = deposit, since = since})
  return since
end

function exit()
  local car = ssp.sender()
  local s, minutes, due = bill(car)
  storage.del(car_key(car))
  local back = s.deposit - due
  if due > 0 then ssp.transfer(storage.get("gate"), due) end
  if back > 0 then ssp.transfer(car, back) end
  ssp.emit("Exited", {car = car, minutes = minutes, paid = due, refund = back})
  return {minutes = minutes, paid = due, refund = back}
end

-- views ----------------------------------------------------------------------

function quote(car)
  local s, minutes, due = bill(car)
  return {minutes = minutes, due = due, deposit = s.deposit, since = s.since}
end

function price() return storage.get("price") end
function gate() return storage.get("gate") end
function parked(car) return storage.get(car_key(car)) ~= nil end

abi.register(setPrice, exit)
abi.payable(enter)
abi.view(quote, price, gate, parked)
