// Command classifybench generates large installer logs and classifies them,
// for hack/bench/classify.sh:
//
//	classifybench gen -size BYTES [-long-every N] -o FILE   write a log of BYTES bytes
//	classifybench classify FILE...          classify, print one JSON line each
package main
