local a, b <const>, c <close> = 1, 2, nil
local function f(x, y, ...) if x == y then return x .. y .. "z" end
  return x < y, x > y, x <= y, x >= y, x ~= y, ... == 1, select('#', ...) > 0 end
local s = "k" .. 1 .. 2 == y and #t < n or not a == b
t = {a = x == y, [x .. y] = 1; x < y, f{x}, f"s" .. f[[t]]}
while i < n do i = i + 1 end
repeat local q = a .. b until q == r
for i = a < b and 1 or 2, #t, (c > d) and 1 or -1 do end
for k, v in pairs(t) do if k ~= v then break end end
local g = function(...) return ... == 1, (a .. b) .. c end
x = a == "s" or 1 < b or b > -1 or f(a)(b)[c]:d"e" == g
::top:: goto top
do local z = a - -b .. c * d // e % f & g | h ~ i << j >> k end
return a .. b == c .. d, a.b.c:d(e < f) .. -x, not (a < b) == (c >= d);
