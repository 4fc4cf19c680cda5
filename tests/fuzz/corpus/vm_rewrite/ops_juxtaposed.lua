x = a == b c = d .. e
f(a < b)(c > d) y = ("a")"b" == 1
local t = {[a < b] = a .. b; a > b, b <= c}
return
