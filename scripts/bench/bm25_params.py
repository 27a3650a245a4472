#!/usr/bin/env python3
"""What BM25's k1 and b are worth on the retrieval sets, before writing a scorer for them.

tantivy fixes k1 = 1.2 and b = 0.75 for every field. This BM25 of its own (lower-cased NFC
syllables plus a field of adjacent pairs, weight 1.5, as hoclieu indexes them) prints MRR@10 for a
few settings on each set in $HOCLIEU_RETRIEVAL_DIR (default ../shared/bench/retrieval).
Pure Python, a few minutes. Results are quoted in docs/SEARCH.md.
"""
import json, math, os, re, unicodedata
from collections import Counter

ROOT = os.environ.get(
    "HOCLIEU_RETRIEVAL_DIR",
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench", "retrieval"),
)

def toks(t):
    t=unicodedata.normalize('NFC',t.lower())
    return re.findall(r'\w+',t)
def pairs(w): return [a+'_'+b for a,b in zip(w,w[1:])]
for s in ['vinewsqa-test','vire-alqac','vire-vimedaqa','vire-virhe4qa']:
    docs=[json.loads(l) for l in open(os.path.join(ROOT, s, 'corpus.jsonl'))]
    qs=[json.loads(l) for l in open(os.path.join(ROOT, s, 'queries.jsonl'))]
    D=[]
    for d in docs:
        w=toks(d['text']); D.append((d['id'],Counter(w),len(w),Counter(pairs(w)),max(1,len(w)-1)))
    N=len(D)
    df=Counter(); dfp=Counter()
    for _,c,_,p,_ in D: df.update(c.keys()); dfp.update(p.keys())
    avg=sum(x[2] for x in D)/N; avgp=sum(x[4] for x in D)/N
    res=[]
    for k1,b,wp in [(1.2,0.75,0),(1.2,0.75,1.5),(1.2,0.5,1.5),(1.2,0.3,1.5),(1.2,0.9,1.5),(0.9,0.75,1.5),(1.6,0.75,1.5),(2.0,0.75,1.5)]:
        mrr=0
        for q in qs:
            w=toks(q['query']); qt=set(w); qp=set(pairs(w))
            sc=[]
            for i,(id_,c,L,p,Lp) in enumerate(D):
                s_=0
                for t in qt:
                    tf=c.get(t)
                    if tf:
                        idf=math.log(1+(N-df[t]+.5)/(df[t]+.5))
                        s_+=idf*tf*(k1+1)/(tf+k1*(1-b+b*L/avg))
                if wp:
                    for t in qp:
                        tf=p.get(t)
                        if tf:
                            idf=math.log(1+(N-dfp[t]+.5)/(dfp[t]+.5))
                            s_+=wp*idf*tf*(k1+1)/(tf+k1*(1-b+b*Lp/avgp))
                if s_>0: sc.append((s_,id_))
            sc.sort(reverse=True)
            rel=set(q['relevant'])
            for r,(_,id_) in enumerate(sc[:10]):
                if id_ in rel: mrr+=1/(r+1); break
        res.append(f"k1={k1} b={b} pair={wp}: {100*mrr/len(qs):.2f}")
    print(s, ' | '.join(res), flush=True)
