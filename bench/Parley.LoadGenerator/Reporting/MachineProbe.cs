using System.Runtime.InteropServices;

namespace Parley.LoadGenerator.Reporting;

/// <summary>Describes this machine for the report: figures mean something only beside the machine they came from.</summary>
internal static class MachineProbe
{
    public static MachineInfo Describe()
    {
        var cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) is { } line
                ? line[(line.IndexOf(':') + 1)..].Trim()
                : cpu;
        }

        // Environment.ProcessorCount counts only the CPUs this process may use, which is one under `taskset -c 1`.
        var cores = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal))
            : Environment.ProcessorCount;
        return new MachineInfo(cores, cpu, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription);
    }
}
