local t = {}
return #t[#t[#t[#t[#t[#t[1]]]]]] + #t:m()
:n() * 2