#!/usr/bin/env bash
# check_report_chromium.sh STUDY_DIR|REPORT_HTML: loads a study's report.html
# in headless Chromium (Debian `chromium`) and checks that
#   - it makes no outside request: every src/href/url() in the file is a
#     data: URI, an #anchor or a file beside the report; Chromium runs with
#     every host name unresolvable, its network log must hold no http(s)/ws
#     request, and the page's own resource list (performance entries) must
#     name nothing but data:/file: URLs;
#   - its figures are there and load: at least one <img>, and every one has
#     naturalWidth > 0 once the page has loaded.
# Prints one line per check and exits 0 when all pass, 1 otherwise, 2 for
# bad usage or a missing chromium. `make check-report` runs it on a tiny
# study; it is not part of `make test` (chromium is over 100 MB).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 STUDY_DIR|REPORT_HTML" >&2
    exit 2
fi
report=$1
[[ -d $report ]] && report=$report/report.html
if [[ ! -f $report ]]; then
    echo "check-report: $report: no such file" >&2
    exit 2
fi
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [[ -z $chromium ]]; then
    echo "check-report: chromium not found (Debian package chromium; or set CHROMIUM=path)" >&2
    exit 2
fi
dir=$(cd "$(dirname "$report")" && pwd)
failed=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failed=1; }

# 1. Every reference in the file, as written.
refs=$(grep -oE '(src|href)="[^"]*"|url\([^)]*\)' "$report" | sed -E 's/^(src|href)="//; s/"$//; s/^url\(//; s/\)$//; s/^["'"'"']//; s/["'"'"']$//' || true)
n_refs=0
while IFS= read -r ref; do
    [[ -z $ref ]] && continue
    n_refs=$((n_refs + 1))
    case $ref in
        data:*|\#*) ;;
        *://*|//*|mailto:*|javascript:*) bad "outside reference: ${ref:0:120}" ;;
        *) [[ -e "$dir/${ref%%#*}" ]] || bad "reference to a missing local file: ${ref:0:120}" ;;
    esac
done <<< "$refs"
[[ $failed -eq 0 ]] && ok "$n_refs references in $(basename "$report"), all data: URIs, anchors or local files"

# 2. The page in Chromium: a copy beside the report (same relative paths)
# with a script that reports, after load, the images and every resource
# the page fetched.
work=$(mktemp -d)
trap 'rm -rf "$work" "$copy"' EXIT
copy="$dir/.check-report-$$.html"
sed 's|</body>|<script>window.addEventListener("load", function () {\
  var imgs = document.images, loaded = 0;\
  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete \&\& imgs[i].naturalWidth > 0) loaded++;\
  var outside = performance.getEntriesByType("resource").map(function (r) { return r.name; })\
      .filter(function (u) { return !/^(data\|file\|blob):/.test(u); });\
  var p = document.createElement("pre"); p.id = "lrscope-check";\
  p.textContent = "CHECK images=" + imgs.length + " loaded=" + loaded + " outside=" + outside.length + " " + outside.join(" ");\
  document.body.appendChild(p);\
});</script>\n</body>|' "$report" > "$copy"
grep -q 'id = "lrscope-check"' "$copy" || { bad "report has no </body>"; exit 1; }
timeout 120 "$chromium" --headless --disable-gpu --no-sandbox --no-first-run --disable-extensions \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --host-resolver-rules="MAP * ~NOTFOUND" \
    --log-net-log="$work/net.json" --virtual-time-budget=4000 \
    --dump-dom "file://$copy" > "$work/dom.html" 2> "$work/chromium.log" || {
    bad "chromium failed (log: last lines below)"; tail -5 "$work/chromium.log"; exit 1; }
line=$(grep -oE 'CHECK images=[0-9]+ loaded=[0-9]+ outside=[0-9]+[^<]*' "$work/dom.html" || true)
if [[ -z $line ]]; then
    bad "the page did not finish loading in Chromium (no check line in the DOM)"
else
    read -r _ images loaded outside rest <<< "$line"
    images=${images#images=}; loaded=${loaded#loaded=}; outside=${outside#outside=}
    if [[ $images -lt 1 ]]; then bad "no <img> in the page"
    elif [[ $loaded -ne $images ]]; then bad "$loaded of $images images loaded"
    else ok "$images images, all loaded (naturalWidth > 0)"; fi
    if [[ $outside -ne 0 ]]; then bad "the page fetched $outside outside resources: $rest"
    else ok "the page fetched only data:/file: resources"; fi
fi
# Chromium's network log: any http(s) or ws request the page made. The
# browser's own background requests (update checks, accounts) are told apart
# by their traffic annotation: the page's subresources are loaded under
# "blink_resource_loader" (hash 101845102).
if [[ -s $work/net.json ]]; then
    urls=$(grep -oE '\{[^{}]*"traffic_annotation":101845102[^{}]*"url":"(https?|wss?)://[^"]*"' "$work/net.json" |
           grep -oE '"url":"[^"]*"' | sort -u || true)
    if [[ -n $urls ]]; then bad "network log: the page requested:"; echo "$urls" | head -10
    else ok "network log: the page made no http(s)/ws request"; fi
else
    bad "chromium wrote no network log"
fi
exit $failed
