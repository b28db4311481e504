#!/usr/bin/awk -f
# md2man.awk: turns the small Markdown subset of docs/*.md (headings, fenced
# code, bullet lists, paragraphs, `code`, **bold**) into a man(7) page, so the
# output-format manual is generated from the one document, never copied.
# Usage: awk -v name=lrscope-files -v section=5 -v title="..." -v date=... -f md2man.awk FILE.md
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/^\./, "\\\\\\&.", s); gsub(/^'/, "\\\\\\&'", s)
    return s
}
function inline(s,   out, i, c, code, bold) {
    s = esc(s)
    out = ""; code = 0; bold = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "`") { out = out (code ? "\\fR" : "\\fB"); code = !code; continue }
        if (!code && substr(s, i, 2) == "**") { out = out (bold ? "\\fR" : "\\fB"); bold = !bold; i++; continue }
        out = out c
    }
    if (code || bold) out = out "\\fR"
    gsub(/-/, "\\-", out)
    return out
}
BEGIN {
    printf ".TH %s %s \"%s\" \"lrscope %s\" \"lrscope manual\"\n", toupper(name), section, date, version
    printf ".SH NAME\n%s \\- %s\n.SH DESCRIPTION\n", name, title
    infence = 0; para = 0; fresh = 1   # fresh: right after a heading, where .PP is implied
}
/^```/ {
    if (!infence) { if (!fresh) print ".PP"; print ".nf\n.RS 2"; infence = 1; fresh = 0 } else { print ".RE\n.fi"; infence = 0 }
    next
}
infence { line = esc($0); gsub(/-/, "\\-", line); if (line == "") print ".sp"; else print line; next }
/^# / { next }   # the document's title is the NAME line
/^## / { sub(/^## /, ""); print ".SH " inline($0); para = 0; fresh = 1; next }
/^### / { sub(/^### /, ""); print ".SS " inline($0); para = 0; fresh = 1; next }
/^[-*] / { sub(/^[-*] /, ""); print ".IP \\(bu 2"; print inline($0); para = 1; fresh = 0; next }
/^  +[^ ]/ && para { sub(/^ +/, ""); print inline($0); next }
/^[[:space:]]*$/ { para = 0; next }
{ if (!para && !fresh) print ".PP"; para = 1; fresh = 0; print inline($0) }
