#!/bin/bash
# One collector (or bare server) at saturation, batches of 10, and where its CPU goes, per thread.
#
# usage: bench/ingest/threads.sh BIN LABEL [SECONDS]   (BIN: a sieve-collector binary, or "bare",
# which needs GENFROM: batches are made from a collector's config)
# env: GENFROM=DIR reuse batches made by gen-batches.mjs; POST=FILE another wrk script; WARM=S;
# CONNS=N wrk connections (32, as scripts/bench).
# Prints one line: req/s, collector CPU per stored event (user + kernel, and the time runnable but
# waiting for a core, "runq", from /proc/PID/task/TID/schedstat) for the HTTP workers, the store
# writer and any other thread (the checkpoint thread), read/write syscalls per request, bytes
# written per event, events per group commit, and the share of wall time the writer spent inside
# commits ("commit-busy", from /metrics), and the share of the machine's CPU time left idle during the
# run ("idle", from /proc/stat: cores neither the collector nor wrk used). Needs wrk, node, curl,
# python3. Not part of
# scripts/bench: an A B A B tool.
set -e
BIN=$1; LABEL=$2; SECS=${3:-8}
. "$(dirname "$0")/start.sh"
BODY=$BATCHDIR/batch-10.tmpl NONCE=$(printf '%016x' $RANDOM$RANDOM$(date +%N)) wrk -t2 -c${CONNS:-32} -d${WARM:-2}s -s ${POST:-$ROOT/bench/ingest/post.lua} "$URL" >/dev/null
snap() { for t in /proc/$PID/task/*; do echo "$(cat $t/comm | tr ' ' _) $(cut -d')' -f2 $t/stat | awk '{print $12, $13}') $(cat $t/schedstat)"; done; }
m0=$(curl -s $BASE/metrics | awk '/^sieve_store_commit_(events|seconds)_(sum|count)/{printf "%s ",$2}'); snap > $W/s0; st0=$(head -1 /proc/stat); io0=$(awk '/^(syscr|syscw|wchar)/{printf "%s ",$2}' /proc/$PID/io)
R=$(BODY=$BATCHDIR/batch-10.tmpl NONCE=$(printf '%016x' $RANDOM$RANDOM$(date +%N)) wrk -t2 -c${CONNS:-32} -d${SECS}s -s ${POST:-$ROOT/bench/ingest/post.lua} "$URL" | grep '^{')
snap > $W/s1; st1=$(head -1 /proc/stat); m1=$(curl -s $BASE/metrics | awk '/^sieve_store_commit_(events|seconds)_(sum|count)/{printf "%s ",$2}'); io1=$(awk '/^(syscr|syscw|wchar)/{printf "%s ",$2}' /proc/$PID/io)
REQ=$(echo "$R" | sed 's/.*"requests":\([0-9]*\).*/\1/'); DUR=$(echo "$R" | sed 's/.*"duration_s":\([0-9.]*\).*/\1/')
NON=$(echo "$R" | sed 's/.*"non2xx":\([0-9]*\).*/\1/')
python3 - "$LABEL" $REQ $DUR $NON $W/s0 $W/s1 "$io0" "$io1" "$m0" "$m1" "$st0" "$st1" <<'P'
import sys
label,req,dur,non,f0,f1,io0,io1,m0,m1,st0,st1=sys.argv[1:]
c0=list(map(int,st0.split()[1:9]));c1=list(map(int,st1.split()[1:9]));dc=[b-a for a,b in zip(c0,c1)];idle=(dc[3]+dc[4])/max(1,sum(dc))
try:
    a0=list(map(float,m0.split()));a1=list(map(float,m1.split()));epc=(a1[2]-a0[2])/max(1,a1[1]-a0[1]);busy=(a1[0]-a0[0])/float(dur)
except Exception: epc=0; busy=0
req=int(req);dur=float(dur);ev=req*10
def rd(f):
    d={}
    for l in open(f):
        n,u,s,on,wait,sl=l.split(); a=d.setdefault(n,[0,0,0,0]); a[0]+=int(u); a[1]+=int(s); a[2]+=int(on); a[3]+=int(wait)
    return d
a,b=rd(f0),rd(f1)
g={}
for n in b:
    z=a.get(n,[0,0,0,0]); u=b[n][0]-z[0]; s=b[n][1]-z[1]; rq=b[n][3]-z[3]
    k='writer' if 'store' in n else ('workers' if 'tokio' in n else 'other:'+n)
    x=g.setdefault(k,[0,0,0]); x[0]+=u; x[1]+=s; x[2]+=rq
tot=sum(x[0]+x[1] for x in g.values())
us=lambda t: t*10000/ev
i0=list(map(int,io0.split())); i1=list(map(int,io1.split()))
parts=" ".join(f"{k}={us(x[0]+x[1]):.1f}({us(x[0]):.1f}u+{us(x[1]):.1f}s,runq {x[2]/1000/ev:.1f})" for k,x in sorted(g.items()))
print(f"{label}: {req/dur:.0f} req/s non2xx={non} cpu/event={us(tot):.1f}us cores={tot/100/dur:.2f} {parts} syscr/req={(i1[1]-i0[1])/req:.1f} syscw/req={(i1[2]-i0[2])/req:.1f} wchar/ev={(i1[0]-i0[0])/ev:.0f} ev/commit={epc:.0f} commit-busy={busy:.2f} idle={idle:.2f}")
P
