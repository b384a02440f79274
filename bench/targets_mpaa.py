"""issue 38, a first look: reel beside scikit-learn on a multi-class target, movies' mpaa
(the 4,924 rated films; data/movies.csv, fetched by data/fetch_movies.sh), one seeded 80/20
split, accuracy, macro-F1 and the fit's CPU seconds of this process (one thread each).
reel's Classifier also holds out valid_fraction (10%) of its training rows; scikit-learn
gets SimpleImputer + StandardScaler in front. Not yet part of bench/suite.py.

    REEL_LIBRARY=build/libreel.so PYTHONPATH=python python3 bench/targets_mpaa.py
"""
import resource
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.metrics import accuracy_score, f1_score
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.linear_model import RidgeClassifier
from sklearn.dummy import DummyClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer
import reel

m = pd.read_csv("data/movies.csv")
m = m[m["mpaa"].notna()]
y = m["mpaa"].to_numpy()
X = m.drop(columns=["title", "mpaa"])
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=42, stratify=None)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
rows = []
def run(name, est):
    t = cpu(); est.fit(Xtr, ytr); fit = cpu() - t
    p = est.predict(Xte)
    rows.append((name, accuracy_score(yte, p), f1_score(yte, p, average="macro"), fit))
sk = lambda e: make_pipeline(SimpleImputer(), StandardScaler(), e)
for name, est in [("reel prior", reel.Classifier(model="prior", n_jobs=1)),
                  ("sklearn Dummy(prior)", DummyClassifier(strategy="prior")),
                  ("reel tree", reel.Classifier(model="tree", n_jobs=1)),
                  ("sklearn tree(max_depth=10,msl=10)", sk(DecisionTreeClassifier(max_depth=10, min_samples_leaf=10, random_state=0))),
                  ("reel forest", reel.Classifier(model="forest", n_jobs=1)),
                  ("sklearn forest(100)", sk(RandomForestClassifier(n_jobs=1, random_state=0))),
                  ("reel knn", reel.Classifier(model="knn", n_jobs=1)),
                  ("sklearn knn(5)", sk(KNeighborsClassifier())),
                  ("reel ridge", reel.Classifier(model="ridge", n_jobs=1)),
                  ("sklearn RidgeClassifier(alpha=10)", sk(RidgeClassifier(alpha=10)))]:
    run(name, est)
for r in rows:
    print(f"{r[0]:36s} accuracy {r[1]:.4f}  macro-F1 {r[2]:.4f}  fit CPU {r[3]:.3f} s")
