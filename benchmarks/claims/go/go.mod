module lessonlens/claims

go 1.19
