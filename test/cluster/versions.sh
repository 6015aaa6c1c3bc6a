# Pinned versions of the local control plane. Kubernetes follows the minor (and patch) that
# Argo Rollouts' own go.mod uses, so both builds share compiled packages in GOCACHE.
K8S_VERSION=v1.34.1
K8S_STAGING=v0.34.1
K8S_GODEBUG=go1.24
ETCD_VERSION=v3.6.10
KWOK_VERSION=v0.8.0
ROLLOUTS_VERSION=v1.9.1
STACK_CACHE=${TANDEM_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}
STACK_DIR="$STACK_CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-rollouts-$ROLLOUTS_VERSION"
# helm renders charts/tandem in the e2e suite (test/e2e/install.test.ts); built by build-helm.sh.
HELM_VERSION=v3.19.5
HELM_DIR="$STACK_CACHE/helm-$HELM_VERSION"
# Argo CD (issue 15): v3.2 is the newest line whose dependencies the module proxy serves (v3.3+
# needs the nested argo-cd/gitops-engine module, which it does not). v3.2.12 does not compile as
# served (its controller/cache/info.go calls settings.ValidateExternalURL, defined nowhere in the
# module); v3.2.11 differs from it only in that file. Built by build-argocd.sh.
ARGOCD_VERSION=v3.2.11
ARGOCD_DIR="$STACK_CACHE/argocd-$ARGOCD_VERSION"
# The optional real node (real-node.sh): kubelet and kube-proxy from the same Kubernetes module,
# CoreDNS whose client-go matches (v1.13.1 requires k8s.io/client-go v0.34.1). Built by build-real-node.sh.
COREDNS_VERSION=v1.13.1
REAL_NODE_DIR="$STACK_CACHE/real-node-k8s-$K8S_VERSION-coredns-$COREDNS_VERSION"
