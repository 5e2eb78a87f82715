using System.CommandLine;
using Parley.Cli.Commands;
using Parley.Cli.Server;

var root = new RootCommand("Parley: a secure chat server and terminal client")
{
    ServerCommand.Create(),
    UserCommand.Create(),
    ChatCommand.Create(),
    AdminCommand.Create(),
};
// `parley chat` handles Ctrl-C itself (it ends a direct call rather than the program, seed 000), and `parley server`
// handles SIGINT and SIGTERM itself (a graceful shutdown that may take longer than System.CommandLine's 2-second
// grace); the other commands keep System.CommandLine's handling, which cancels their token on SIGINT and SIGTERM.
var ownSignals = args.FirstOrDefault() is "chat" or "server";
return await root.Parse(args).InvokeAsync(ownSignals ? new InvocationConfiguration { ProcessTerminationTimeout = null } : null).ConfigureAwait(false);
