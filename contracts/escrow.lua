-- escrow.lua — a buyer locks SSP for a seller; the buyer releases it to the
-- seller when satisfied, or takes it back once the deal has timed out. The
-- seller may also hand the money back at any time. One contract holds any
-- number of deals, each with its own id.
--
-- Deploy:  ssp contract deploy --from NAME escrow.lua --args '[100]'
--          init(default_timeout_blocks): used by deposits that give none.
-- Use:     ssp contract call --from BUYER ADDR deposit --value 5 --args '["SELLER", 20]'
--          ssp contract call --from BUYER ADDR release --args '[1]'
--          ssp contract call --from BUYER ADDR refund  --args '[1]'   (after the timeout)
--          ssp contract query ADDR get --args '[1]'
-- Timeouts count blocks (ssp.height()), which every node agrees on.
-- Events: Deposited {id, buyer, seller, amount, deadline}, Released {id, to, amount},
--         Refunded {id, to, amount}.

local function deal_key(id) return "deal:" .. id end

local function load(id)
  assert(math.type(id) == "integer" and id > 0, "escrow: a deal id is a positive integer")
  local d = storage.get(deal_key(id))
  assert(d ~= nil, "escrow: no such deal")
  return d
end

function init(default_timeout)
  default_timeout = default_timeout or 100
  assert(math.type(default_timeout) == "integer" and default_timeout > 0,
         "escrow: the default timeout is a positive number of blocks")
  storage.set("timeout", default_timeout)
  storage.set("next", 1)
end

-- payable: the value sent is the deal's amount
function deposit(seller, timeout)
  local amount = ssp.value()
  assert(amount > 0, "escrow: send the amount to lock as the call's value")
  assert(type(seller) == "string", "escrow: the seller is an address")
  assert(seller ~= ssp.sender(), "escrow: buyer and seller must differ")
  timeout = timeout or storage.get("timeout")
  assert(math.type(timeout) == "integer" and timeout > 0, "escrow: timeout is a positive number of blocks")
  local id = storage.get("next")
  storage.set("next", id + 1)
  local deadline = ssp.height() + timeout
  storage.set(deal_key(id), {buyer = ssp.sender(), seller = seller, amount = amount,
                             deadline = deadline, state = "open"})
  ssp.emit("Deposited", {id = id, buyer = ssp.sender(), seller = seller, amount = amount,
                         deadline = deadline})
  return id
end

-- the buyer pays the seller
function release(id)
  local d = load(id)
  assert(d.state == "open", "escrow: deal is " .. d.state)
  assert(ssp.sender() == d.buyer, "escrow: only the buyer can release")
  d.state = "released"
  storage.set(deal_key(id), d)
  ssp.transfer(d.seller, d.amount)
  ssp.emit("Released", {id = id, to = d.seller, amount = d.amount})
  return d.amount
end

-- back to the buyer: by the seller at any time, by the buyer after the deadline
function refund(id)
  local d = load(id)
  assert(d.state == "open", "escrow: deal is " .. d.state)
  local who = ssp.sender()
  if who == d.buyer then
    assert(ssp.height() >= d.deadline,
           "escrow: the deal runs until block " .. d.deadline .. " (now " .. ssp.height() .. ")")
  else
    assert(who == d.seller, "escrow: only the buyer or the seller can refund")
  end
  d.state = "refunded"
  storage.set(deal_key(id), d)
  ssp.transfer(d.buyer, d.amount)
  ssp.emit("Refunded", {id = id, to = d.buyer, amount = d.amount})
  return d.amount
end

function get(id)
  return load(id)
end

function deals()
  return storage.get("next") - 1
end

abi.register(release, refund)
abi.payable(deposit)
abi.view(get, deals)
