package journal

func helperRuns([]string) int     { return 100 }
func helperTakeOver([]string) int { return 100 }
