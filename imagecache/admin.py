"""Admin pages of imagecache."""
