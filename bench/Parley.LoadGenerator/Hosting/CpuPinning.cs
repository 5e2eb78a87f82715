using System.Diagnostics;

namespace Parley.LoadGenerator.Hosting;

/// <summary>
/// <c>--server-cpus</c>: starts each server under <c>taskset -c LIST</c> (util-linux), so that on a small machine the
/// server and the load generator (run itself under <c>taskset</c> on the other CPUs) do not take each other's time.
/// Without it the kernel schedules all of them on every CPU. taskset execs the server, so the process ID is the server's.
/// </summary>
internal static class CpuPinning
{
    /// <summary>The CPU list servers are pinned to (taskset's syntax, e.g. "0" or "0-1"); null for no pinning.</summary>
    public static string? ServerCpus { get; set; }

    public static ProcessStartInfo StartInfo(string executable, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(ServerCpus is null ? executable : "taskset") { UseShellExecute = false };
        info.Environment.Remove(GeneratorTuning.Variable); // a server runs as it ships, not tuned as the generator is
        if (ServerCpus is { } cpus)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpus);
            info.ArgumentList.Add(executable);
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }
}
