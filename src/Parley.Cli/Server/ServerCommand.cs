using System.CommandLine;
using Parley.Cli.Commands;
using Parley.Cli.Configuration;

namespace Parley.Cli.Server;

/// <summary>
/// <c>parley server</c>: runs until Ctrl+C or SIGTERM, then disconnects clients and commits queued history. Logs go
/// to stderr and never contain message text. Every setting comes from <see cref="ServerSettings"/>, layered
/// default &lt; parley.json &lt; PARLEY_* &lt; flag (issue #7).
/// </summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var settings = new SettingOptions(ServerSettings.All);
        var command = new Command("server",
            "Run the Parley server (UDP log-on, TCP chat relay, SQLite history). Each setting below may also be given as "
            + "an environment variable or a key in parley.json; a flag beats the environment, which beats the file.");
        settings.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            // A bad value stops start-up here, before anything is bound or opened. Out-of-range values are refused
            // by ParleyServerOptions.Validate when the runner starts the server.
            if (CommonOptions.Resolve(settings, result) is not { } configuration)
            {
                return 2;
            }

            return await ServerRunner.RunAsync(configuration.Server, configuration.Host, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}
