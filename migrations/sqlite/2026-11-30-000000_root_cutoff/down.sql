DROP TABLE root_cutoffs;
