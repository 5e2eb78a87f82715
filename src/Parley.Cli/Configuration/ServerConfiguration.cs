using Parley.Cli.Server;
using Parley.Server;

namespace Parley.Cli.Configuration;

/// <summary>Everything <c>parley server</c> is configured with: the server's limits and how the process around it runs.</summary>
internal sealed record ServerConfiguration(ParleyServerOptions Server, ServerHostSettings Host)
{
    /// <summary>The built-in defaults; only the data directory depends on the environment (XDG_DATA_HOME, HOME).</summary>
    public static ServerConfiguration Defaults(Func<string, string?> environment) =>
        new(new ParleyServerOptions { DataDirectory = DefaultDataDirectory(environment) }, new ServerHostSettings());

    /// <summary>$XDG_DATA_HOME/parley, or ~/.local/share/parley (XDG Base Directory defaults).</summary>
    public static string DefaultDataDirectory(Func<string, string?> environment) =>
        Path.Combine(ConfigFile.XdgDirectory(environment, "XDG_DATA_HOME", Path.Combine(".local", "share")), "parley");
}
