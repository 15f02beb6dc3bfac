"""One package per paper: `spec` (light: paths, job grouping), `stages` (the jobs), and the science."""
