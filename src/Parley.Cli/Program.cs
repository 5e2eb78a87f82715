using System.CommandLine;
using Parley.Cli.Commands;
using Parley.Cli.Server;

var root = new RootCommand("Parley: a secure chat server and terminal client")
{
    ServerCommand.Create(),
    UserCommand.Create(),
    ChatCommand.Create(),
};
// `parley chat` handles Ctrl-C itself (it ends a direct call rather than the program, seed 000); the other
// commands keep System.CommandLine's handling, which cancels their token on SIGINT and SIGTERM.
var chat = args.FirstOrDefault() == "chat";
return await root.Parse(args).InvokeAsync(chat ? new InvocationConfiguration { ProcessTerminationTimeout = null } : null).ConfigureAwait(false);
