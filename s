100000 rows, 26.7 MB, file in the page cache; 1 round1, medians
