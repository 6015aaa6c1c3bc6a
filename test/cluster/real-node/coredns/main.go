// A CoreDNS with only the plugins the real node needs: cluster names from the apiserver
// (kubernetes), plus errors and health. Linking every plugin, as upstream's main does, would
// build hundreds of cloud SDK packages that no test uses. CoreDNS documents this way of
// choosing plugins at compile time: set dnsserver.Directives and import the plugins.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
)

func init() { dnsserver.Directives = []string{"errors", "health", "kubernetes"} }

func main() { coremain.Run() }
