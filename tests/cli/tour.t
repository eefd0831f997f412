# The README's tour runs as written.

$ TMPDIR=$T $JINPU run lua/examples/tour.lua
~ ^5	indicator, subject, period, value, unit, label, section, note$
~ annual_output +140000 t +more_than
~ ^firms in all categories:	2543(\.0)?	more_than$
~ ^doctor +200000 +40000$
~ ^economy valid:	true	0$
~ ^cherry +148000 +>140000$
~ ^cherry, farms	true$
~ ^round trip equal:	true$
~ ^sqlite round trip:	true$
