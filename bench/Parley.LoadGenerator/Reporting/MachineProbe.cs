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

        return new MachineInfo(Environment.ProcessorCount, cpu, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription);
    }
}
