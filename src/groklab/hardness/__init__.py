"""Hardness measures over a task's hypothesis class (a `groklab.tasks.family.TargetFamily`).

- `correlation`: target correlations C(h, h') = E_x[h(x) h'(x)], their mean square and maximum,
  exactly anti-correlated pairs, and the SQ-dimension lower bound of Takhanov et al. Thm 21.
- `gradient_variance`: Var(H, w) = E_h ||grad_w C_h(w) - E_h' grad_w C_h'(w)||^2 (Shalev-Shwartz et
  al. 2017; Takhanov et al. Thm 1 and Thm 15).
"""
