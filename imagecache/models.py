"""Database models of imagecache."""
