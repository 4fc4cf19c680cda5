-- float_edges.lua: a contract for the cross-architecture determinism test
-- (test_cross_arch.py). It turns floats into text every way it can (NaN from
-- every source, infinities, signed zero, denormals, %a and %.17g, sorting
-- with NaN), does integer wraparound and negative // and %, and lets its
-- gas, storage, events and return values depend on the text, so a node
-- whose CPU printed any of it differently would compute another block.

local function nans()
  local z = 0.0
  local t = {z / z, -(z / z), math.huge - math.huge, math.huge * 0, z % z, 5 % -0.0,
    math.fmod(1, z), math.fmod(math.huge, 1), math.max(z / z, 1), math.min(-(z / z), 1),
    (z / z) + -(z / z), -(z / z) * (z / z), '0' / 0, math.abs(z / z), math.floor(-(z / z)),
    (z / z) // 1}
  -- NaNs of both signs and with payloads, from bytes
  for _, b in ipairs({'\0\0\0\0\0\0\xf8\xff', '\0\0\0\0\0\0\xf8\x7f', '\1\0\0\0\0\0\xf0\x7f',
                      '\xff\xff\xff\xff\xff\xff\xff\xff'}) do
    t[#t + 1] = (string.unpack('<d', b))
  end
  t[#t + 1] = (string.unpack('<f', '\1\0\xc0\xff'))
  return t
end

local function texts(x)
  return table.concat({tostring(x), x .. '', 1 .. x, string.format(
    '%a|%A|%e|%E|%f|%g|%G|%.17g|%5.1f|%-6g|%+g|% g|%q|%s|%8s', x, x, x, x, x, x, x, x, x, x, x,
    x, x, x, x), string.len(x), string.upper(x), table.concat({x, 1.5}, x),
    (string.gsub('ab', '%w', {a = x, b = -x}))}, ';')
end

local function hex(s)
  return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end

-- every NaN as text and bytes; the gas spent depends on the text's length
function nan_text()
  local parts, packed = {}, {}
  for i, x in ipairs(nans()) do
    assert(x ~= x, 'not a NaN: ' .. i)
    parts[#parts + 1] = texts(x)
    packed[#packed + 1] = hex(string.pack('<d>f', x, -x))
  end
  local s = table.concat(parts, '/')
  local n = 0
  for _ = 1, #tostring(0 / 0) * 1000 do n = n + 1 end
  for _ = 1, #s do n = n + 1 end
  storage.set('nan_text', s)
  storage.set('nan_bytes', table.concat(packed, ','))
  ssp.emit('NanText', {len = #s, n = n, sha = ssp.sha256(s)})
  return s:sub(1, 300)
end

-- the other edge cases
function edges()
  local nz, tiny = -0.0, (string.unpack('<d', '\1\0\0\0\0\0\0\0'))
  local r = {tostring(nz), nz .. '', string.format('%a|%g|%.17g|%f|%q', nz, nz, nz, nz, nz),
    tostring(1 / nz), tostring(math.huge), tostring(-math.huge), 1e308 * 10 .. '',
    string.format('%a|%A|%e|%.17g|%q|%q', math.huge, -math.huge, math.huge, -math.huge,
      math.huge, -math.huge),
    tostring(tiny), string.format('%a|%.17g|%e|%q', tiny, tiny, tiny, tiny), tostring(tiny / 2)}
  r[#r + 1] = string.format('%a|%.17g|%.14g|%a|%.17g', 0.1, 0.1, 0.1, 2.2250738585072014e-308,
    2.2250738585072009e-308)
  r[#r + 1] = tostring(1 / 3) .. ' ' .. tostring(1e15) .. ' ' .. tostring(1e16) .. ' ' ..
    tostring(-1e-300) .. ' ' .. tostring(9007199254740993 + 0.0)
  -- integers: wraparound, floor division and modulo of negatives
  r[#r + 1] = table.concat({math.maxinteger + 1, math.mininteger - 1, math.mininteger // -1,
    math.mininteger % -1, math.maxinteger * 2, 7 // -2, -7 // 2, 7 % -2, -7 % 2, 7.5 // -2,
    -7.5 % 2, 7 % -math.huge, -7 % math.huge, math.fmod(-7, 2), math.fmod(7, -2),
    math.ult(-1, 1) and 1 or 0, 1 << 63, 1 << 64, -1 >> 1}, ' ')
  -- sorting with NaN and signed zeros
  local t = {0 / 0, 3, -(0 / 0), 1, 0 / 0, 2, -0.0, 0.0, math.huge, -math.huge, tiny}
  table.sort(t, function(a, b) return a < b end)
  local s = {}
  for i = 1, #t do s[i] = tostring(t[i]) end
  r[#r + 1] = table.concat(s, ',')
  local text = table.concat(r, ' ')
  storage.set('edges', text)
  ssp.emit('Edges', {text = text})
  return text
end

-- float arithmetic on the arguments, as text
function mix(a, b)
  local q = a / b
  local text = table.concat({tostring(q), string.format('%.17g|%a', q, q), tostring((a + 0.0) // b),
    tostring(-q), tostring(q * 0), tostring(math.fmod(a, b + 0.0))}, ' ')
  ssp.emit('Mix', {text = text})
  return text
end

-- an error whose message carries a NaN's text
function boom()
  error('boom ' .. (0 / 0) .. ' ' .. -(0 / 0))
end

abi.register(nan_text, edges, mix, boom)
