# The README's tour runs as written.

$ TMPDIR=$T $JINPU run lua/examples/tour.lua
~ ^5	indicator, subject, period, value, unit, label, section, note$
~ annual_output +140000 t +more_than
~ ^gdp	2576\.3亿元$
~ ^foreign_trade	约2570亿元$
~ ^433\+1 industry system:	11(\.0)?	exact$
~ ^firms in some category: at least	958(\.0)?	high_tech$
~ ^doctor +200000 +40000$
~ ^9866\.6666666667	ha	14\.8	万亩$
~ ^economy valid:	true	0$
~ ^cherry +148000 +>140000$
~ ^cherry, farms	true$
~ ^round trip equal:	true$
~ ^sqlite round trip:	true$

# the tour never adds up the overlapping firm categories of ip.yaml
$ grep -n 'firms' lua/examples/tour.lua | grep -E ':sum\(|jp\.sum'
? 1

# the README shows the tour as it is
$ awk '/^## A five-minute tour/ { t = 1 } t && /^```lua$/ { f = 1; next } f && /^```$/ { exit } f' README.md | diff - lua/examples/tour.lua
