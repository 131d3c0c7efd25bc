  git fast-import:  user 0.48 s, sys 0.49 s, peak RSS 8 MiB (1 run1)
  other git:        user 0.42 s, sys 0.14 s, peak RSS 19 MiB (56 run56)
