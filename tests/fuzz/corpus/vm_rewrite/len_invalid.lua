x = y #t
local a = 1 #t
#t = 1
return #