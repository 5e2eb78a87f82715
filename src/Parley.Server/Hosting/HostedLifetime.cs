using Microsoft.Extensions.Hosting;

namespace Parley.Server.Hosting;

/// <summary>
/// Replaces the generic host's ConsoleLifetime, which would catch SIGINT, SIGTERM and SIGQUIT for itself, every time.
/// Whoever hosts <see cref="ParleyServer"/> owns the signals: <c>parley server</c> starts a graceful shutdown on the
/// first and lets a second one end the process at once; tests host several servers in one process.
/// </summary>
internal sealed class HostedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
