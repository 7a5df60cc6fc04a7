module kilnhot

go 1.19
