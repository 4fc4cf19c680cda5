local o = {x = {y = function(self, a) return {a, a} end}}
local s, t = 'abcd', {{1, 2}, {3}}
local a = {#o.x:y(1) + 1, #s .. '', -#s, #t[#t] * 2, #(s .. s), #t[1] == 2 and 'y' or 'n'}
local b = {#{1, 2} - #{1}, #s:rep(3), #'x' .. #'yy', #[[long]], #[==[x]==], #"q"}
local function n(...) return #..., #not s end
for i = #t, 1, -1 do a[#a + 1] = #t[i] end
for i = 1, #s // 2 do a[#a + 1] = i end
local c = #--[[ c ]]
  t
local d = # # s
local e = #f"x" + #g{1}
return #o.x["y"](o, 1), #(o).x.y(o, 2)[1], -#-#s
