using System.Globalization;

namespace Parley.LoadGenerator.Hosting;

/// <summary>
/// CPU time and resident memory of a process on this machine, read from /proc (proc(5)): what a server used, not
/// what the load generator thinks it used.
/// </summary>
internal static class ProcessStats
{
    // proc(5): utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks. Linux reports them in USER_HZ,
    // which is 100 on every architecture .NET runs on.
    private const double MicrosPerTick = 1_000_000.0 / 100;

    /// <summary>User plus system CPU time the process has used so far, in microseconds.</summary>
    public static double CpuMicros(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces; count fields after its closing one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var user = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var system = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (user + system) * MicrosPerTick;
    }

    /// <summary>The process's resident set (VmRSS), in bytes.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line.");
    }

    /// <summary>The load generator's own CPU time so far, in microseconds.</summary>
    public static double OwnCpuMicros() => Environment.ProcessId is var pid ? CpuMicros(pid) : 0;
}
