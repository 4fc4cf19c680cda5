-- iot20.lua — a vendor token written in Lua with the IOT_Coin interface
-- (ARCHITECTURE §8): for vendors who want custom rules around their token.
-- The native IOT_Coin module (`ssp token …`) does the same without code;
-- start from this template when transfers need extra logic (fees, caps,
-- allow-lists, vesting …).
--
-- Deploy:  ssp contract deploy --from NAME iot20.lua \
--            --args '["PARK", "Parking credits", 2, 100000000, 1000000]'
--          init(symbol, name, decimals, max_supply, initial_supply): the
--          deployer is the issuer and receives initial_supply.
-- Amounts are integers in the token's base units; addresses are bech32m
-- strings. Events: Transfer {from, to, value}, Approval {owner, spender, value}.

local function key_balance(who) return "bal:" .. who end
local function key_allowance(owner, spender) return "alw:" .. owner .. ":" .. spender end

local function get_int(key) return storage.get(key) or 0 end

local function check_amount(v)
  assert(math.type(v) == "integer", "iot20: amounts are integers")
  assert(v > 0, "iot20: amount must be positive")
end

local function check_address(a)
  assert(type(a) == "string" and #a > 0, "iot20: an address is a string")
end

-- moves value from one holder to another; the caller has checked authority
local function move(from, to, value)
  local fb = get_int(key_balance(from))
  assert(fb >= value, "iot20: insufficient balance")
  storage.set(key_balance(from), fb - value)
  storage.set(key_balance(to), get_int(key_balance(to)) + value)
  ssp.emit("Transfer", {from = from, to = to, value = value})
end

function init(symbol, name, decimals, max_supply, initial_supply)
  assert(type(symbol) == "string" and #symbol >= 2 and #symbol <= 12, "iot20: symbol is 2..12 characters")
  assert(type(name) == "string" and #name <= 64, "iot20: name is at most 64 bytes")
  assert(math.type(decimals) == "integer" and decimals >= 0 and decimals <= 18, "iot20: decimals 0..18")
  assert(math.type(max_supply) == "integer" and max_supply > 0, "iot20: max_supply must be positive")
  initial_supply = initial_supply or 0
  assert(math.type(initial_supply) == "integer" and initial_supply >= 0 and initial_supply <= max_supply,
         "iot20: initial_supply must be 0..max_supply")
  storage.set("symbol", symbol)
  storage.set("name", name)
  storage.set("decimals", decimals)
  storage.set("max_supply", max_supply)
  storage.set("issuer", ssp.sender())
  storage.set("supply", initial_supply)
  if initial_supply > 0 then
    storage.set(key_balance(ssp.sender()), initial_supply)
    ssp.emit("Transfer", {from = "", to = ssp.sender(), value = initial_supply})
  end
end

-- views --------------------------------------------------------------------

function symbol() return storage.get("symbol") end
function name() return storage.get("name") end
function decimals() return storage.get("decimals") end
function totalSupply() return storage.get("supply") end
function maxSupply() return storage.get("max_supply") end
function issuer() return storage.get("issuer") end

function balanceOf(who)
  check_address(who)
  return get_int(key_balance(who))
end

function allowance(owner, spender)
  check_address(owner)
  check_address(spender)
  return get_int(key_allowance(owner, spender))
end

-- transactions ---------------------------------------------------------------

function transfer(to, value)
  check_address(to)
  check_amount(value)
  move(ssp.sender(), to, value)
  return true
end

function approve(spender, value)
  check_address(spender)
  assert(math.type(value) == "integer" and value >= 0, "iot20: allowance must be a non-negative integer")
  storage.set(key_allowance(ssp.sender(), spender), value)
  ssp.emit("Approval", {owner = ssp.sender(), spender = spender, value = value})
  return true
end

function transferFrom(from, to, value)
  check_address(from)
  check_address(to)
  check_amount(value)
  local k = key_allowance(from, ssp.sender())
  local left = get_int(k)
  assert(left >= value, "iot20: allowance exceeded")
  storage.set(k, left - value)
  move(from, to, value)
  return true
end

-- the issuer mints up to max_supply
function issue(to, value)
  check_address(to)
  check_amount(value)
  assert(ssp.sender() == storage.get("issuer"), "iot20: only the issuer can issue")
  local supply = storage.get("supply")
  assert(value <= storage.get("max_supply") - supply, "iot20: over max_supply")
  storage.set("supply", supply + value)
  storage.set(key_balance(to), get_int(key_balance(to)) + value)
  ssp.emit("Transfer", {from = "", to = to, value = value})
  return true
end

-- any holder burns its own tokens
function burn(value)
  check_amount(value)
  local me = ssp.sender()
  local b = get_int(key_balance(me))
  assert(b >= value, "iot20: insufficient balance")
  storage.set(key_balance(me), b - value)
  storage.set("supply", storage.get("supply") - value)
  ssp.emit("Transfer", {from = me, to = "", value = value})
  return true
end

abi.register(transfer, approve, transferFrom, issue, burn)
abi.view(symbol, name, decimals, totalSupply, maxSupply, issuer, balanceOf, allowance)
