# read_xlsx.py - dumps a workbook as the tests read it back, with openpyxl
# (a standard reader, not the writer's library): one line per sheet, column
# width and cell, tab-separated.
import sys
import openpyxl

wb = openpyxl.load_workbook(sys.argv[1])
print("title\t%s" % (wb.properties.title or ""))
for ws in wb:
    print("sheet\t%s\t%s\t%s\t%d\t%d" % (ws.title, ws.freeze_panes or "", ws.auto_filter.ref or "",
                                       ws.max_row, ws.max_column))
    for k, d in sorted(ws.column_dimensions.items()):
        print("width\t%s\t%s" % (k, d.width))
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            v = c.value
            t = type(v).__name__
            if t == "datetime":
                v = v.strftime("%Y-%m-%d")
            elif t == "float":
                v = repr(v)
            print("cell\t%s\t%s\t%s\t%s" % (c.coordinate, t, str(v).replace("\t", " ").replace("\n", " "),
                                            c.number_format))
