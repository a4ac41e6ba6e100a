package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Names of the process groups whose CPU a run measures.
const (
	GroupAPI      = "api+worker (ecommerce dev)"
	GroupTemporal = "temporal"
	GroupPostgres = "postgres backends"
	GroupPGAll    = "postgres (all processes)"
	GroupSelf     = "load (this process)"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on Linux.
const clockTicks = 100

// ProcessCPU is the processor time (user + system) a group of processes used in a phase.
type ProcessCPU struct {
	Name string `json:"name"`
	// How says how the processes were found.
	How  string `json:"how"`
	PIDs []int  `json:"pids"`
	// Seconds is CPU seconds over the phase; PerOpMillis divides it by the successful operations.
	Seconds     float64 `json:"cpu_s"`
	PerOpMillis float64 `json:"cpu_ms_per_op"`
}

// ProcessGroups says which processes to count: the API by the port it listens on, Temporal by
// its frontend port, PostgreSQL backends by the database named in their process title.
type ProcessGroups struct {
	APIPort      int
	TemporalPort int
	Database     string
}

// groupSpec is one group to measure: how to find its pids now.
type groupSpec struct {
	name string
	find func() ([]int, string)
}

// cpuSnapshot is the ticks of every pid of every group at one moment.
type cpuSnapshot struct {
	groups []groupSpec
	pids   map[string][]int
	how    map[string]string
	ticks  map[int]uint64
}

// specs lists the groups of g.
func (g ProcessGroups) specs() []groupSpec {
	return []groupSpec{
		{GroupAPI, func() ([]int, string) {
			return findListener(g.APIPort, "ecommerce", fmt.Sprintf("listening on :%d", g.APIPort))
		}},
		{GroupTemporal, func() ([]int, string) {
			return findListener(g.TemporalPort, "temporal", fmt.Sprintf("listening on :%d", g.TemporalPort))
		}},
		{GroupPostgres, func() ([]int, string) {
			return pidsWhere(func(comm, cmdline string) bool {
				return comm == "postgres" && isBackendOf(cmdline, g.Database)
			}), fmt.Sprintf("comm postgres, title names database %s", g.Database)
		}},
		{GroupPGAll, func() ([]int, string) {
			return pidsWhere(func(comm, _ string) bool { return comm == "postgres" }), "comm postgres (shared with other databases)"
		}},
		{GroupSelf, func() ([]int, string) { return []int{os.Getpid()}, "os.Getpid (includes the bare worker)" }},
	}
}

// takeSnapshot finds the pids of every group and reads their CPU ticks.
func takeSnapshot(groups []groupSpec) cpuSnapshot {
	s := cpuSnapshot{groups: groups, pids: map[string][]int{}, how: map[string]string{}, ticks: map[int]uint64{}}
	for _, g := range groups {
		pids, how := g.find()
		s.pids[g.name], s.how[g.name] = pids, how
		for _, pid := range pids {
			if t, err := readTicks(pid); err == nil {
				s.ticks[pid] = t
			}
		}
	}
	return s
}

// usage returns, per group, the CPU used between before and after over ops operations. A
// process that appeared in between counts from zero; one that ended in between is lost.
func usage(before, after cpuSnapshot, ops int) []ProcessCPU {
	var out []ProcessCPU
	for _, g := range after.groups {
		pids := slices.Clone(after.pids[g.name])
		var ticks uint64
		for _, pid := range pids {
			if a, b := after.ticks[pid], before.ticks[pid]; a >= b {
				ticks += a - b
			}
		}
		c := ProcessCPU{Name: g.name, How: after.how[g.name], PIDs: pids, Seconds: round(float64(ticks)/clockTicks, 2)}
		if ops > 0 {
			c.PerOpMillis = round(c.Seconds*1000/float64(ops), 2)
		}
		out = append(out, c)
	}
	return out
}

// readTicks returns utime+stime of pid, in clock ticks.
func readTicks(pid int) (uint64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(raw))
}

// parseStatTicks reads utime and stime (fields 14 and 15) from a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may hold spaces, so fields count from the last ')'.
func parseStatTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat %q: no command name", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("stat %q: too few fields", stat)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat %q: utime or stime is not a number", stat)
	}
	return utime + stime, nil
}

// isBackendOf reports whether a PostgreSQL process title ("postgres: 15/main: user db
// 127.0.0.1(5432) idle") is a backend connected to database db.
func isBackendOf(cmdline, db string) bool {
	if db == "" || !strings.HasPrefix(cmdline, "postgres: ") {
		return false
	}
	f := strings.Fields(cmdline)
	for i := 2; i < len(f); i++ {
		if f[i] == db && !strings.HasSuffix(f[i-1], ":") {
			return true
		}
	}
	return false
}

// pidsWhere returns the pids whose command name and command line match.
func pidsWhere(match func(comm, cmdline string) bool) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(d + "/comm")
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(d + "/cmdline")
		args := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		if match(strings.TrimSpace(string(comm)), args) {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// findListener returns the process listening on TCP port (any address), or, when none can be
// seen, the processes whose command name is comm.
func findListener(port int, comm, how string) ([]int, string) {
	if pid := listenerPID(port); pid > 0 {
		return []int{pid}, how
	}
	return pidsWhere(func(c, _ string) bool { return c == comm }), "comm " + comm + " (no listener found)"
}

// listenerPID returns the pid that owns the listening socket of port, or 0.
func listenerPID(port int) int {
	if port <= 0 {
		return 0
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, inode := range listeningInodes(table, port) {
			inodes[inode] = true
		}
	}
	if len(inodes) == 0 {
		return 0
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid
		}
	}
	return 0
}

// listeningInodes returns the socket inodes listening on port in a /proc/net/tcp table.
func listeningInodes(table string, port int) []string {
	f, err := os.Open(table)
	if err != nil {
		return nil
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(fields) < 10 || fields[3] != "0A" || !strings.HasSuffix(fields[1], want) {
			continue
		}
		out = append(out, fields[9])
	}
	return out
}
