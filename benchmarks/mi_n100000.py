"""One N = 100 000 MI (16 + 16 features, rho = 0.7, Tapia widths) by matrix-free SLQ with default_controls(n).

Usage: /usr/bin/time -v python benchmarks/mi_n100000.py   (prints CPU/wall seconds per entropy term, then the MI)
"""
import json
import math
import time

import numpy as np

from renyimi._engine.operators import GaussianOperator, joint_gaussian_operator
from renyimi._engine.slq import default_controls, prepare

rng=np.random.default_rng(0); n=100000
X=rng.standard_normal((n,16)); Y=0.7*X+0.71*rng.standard_normal((n,16))
def tapia(M):
    M=(M-M.mean(0))/M.std(0); d=M.shape[1]; return M/(math.sqrt(d)*n**(-1/(4+d)))
Zx,Zy=tapia(X),tapia(Y)
ctl=default_controls(n); print(ctl, flush=True)
t_all=time.process_time(); w_all=time.perf_counter(); S={}
for key in ("x","y","xy"):
    c=time.process_time(); w=time.perf_counter()
    op = joint_gaussian_operator(Zx,Zy) if key=="xy" else GaussianOperator(Zx if key=="x" else Zy, np)
    st=prepare(op, rng=np.random.default_rng([0, ("x","y","xy").index(key)]), **ctl)
    S[key]={a: st.entropy(a) for a in (1.01,1.0)}
    print(key, json.dumps({"cpu_s":time.process_time()-c,"wall_s":time.perf_counter()-w,"products":st.n_products,"S":S[key]}), flush=True)
for a in (1.01,1.0):
    mi=S["x"][a][0]+S["y"][a][0]-S["xy"][a][0]; se=math.sqrt(sum(S[k][a][1]**2 for k in S))
    print("MI",a,mi,se)
print("total cpu_s", time.process_time()-t_all, "wall_s", time.perf_counter()-w_all, flush=True)
